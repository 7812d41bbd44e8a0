import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useSession } from '../auth/session';

export function Layout() {
  const { user, config, signOut } = useSession();
  const navigate = useNavigate();
  const staff = user?.role === 'staff' || user?.role === 'admin';
  return (
    <div className="app">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <span className="brand">{config?.facility.name ?? 'Parlor'}</span>
        {user && (
          <nav aria-label="Main">
            {staff && <NavLink to="/staff">Console</NavLink>}
            {staff && <NavLink to="/recordings">Recordings</NavLink>}
            {user.role === 'visitor' && <NavLink to="/home">Home</NavLink>}
            {user.role === 'resident' && <NavLink to="/resident">Today</NavLink>}
          </nav>
        )}
        {user && (
          <div className="who">
            <span className="muted" data-testid="user-name">{user.name}</span>
            <button type="button" className="btn" onClick={async () => { await signOut(); navigate('/signin'); }}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
