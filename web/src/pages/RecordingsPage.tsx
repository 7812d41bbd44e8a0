export function RecordingsPage() {
  return <div className="page" data-testid="recordings-page"><h1>Recordings</h1></div>;
}
