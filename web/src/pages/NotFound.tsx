import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <section className="card" data-testid="not-found">
      <h1>Page not found</h1>
      <p>This page does not exist. <Link to="/">Go to your home page</Link>.</p>
    </section>
  );
}
