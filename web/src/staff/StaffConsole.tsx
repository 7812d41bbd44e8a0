export function StaffConsole() {
  return <div className="page" data-testid="staff-console"><h1>Staff console</h1></div>;
}
