export function JoinPage() {
  return <div className="page" data-testid="join-page"><h1>Join</h1></div>;
}
