import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { homePath, useSession } from './auth/session';
import type { Role } from './api/types';
import { Layout } from './components/Layout';
import { SignInPage } from './pages/SignInPage';
import { VisitorHome } from './pages/VisitorHome';
import { ResidentHome } from './pages/ResidentHome';
import { NotFound } from './pages/NotFound';

// The staff pages and the call (with the LiveKit SDKs) load on demand.
const StaffConsole = lazy(() => import('./staff/StaffConsole').then((m) => ({ default: m.StaffConsole })));
const RecordingsPage = lazy(() => import('./pages/RecordingsPage').then((m) => ({ default: m.RecordingsPage })));
const JoinPage = lazy(() => import('./pages/JoinPage').then((m) => ({ default: m.JoinPage })));

function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user, loading, loadError } = useSession();
  const location = useLocation();
  if (loading) return <p className="loading" role="status">Loading…</p>;
  if (loadError) return <p role="alert" className="error">{loadError}</p>;
  if (!user) return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  if (!roles.includes(user.role)) return <Navigate to={homePath(user)} replace />;
  return <>{children}</>;
}

function Home() {
  const { user, loading } = useSession();
  if (loading) return <p className="loading" role="status">Loading…</p>;
  return <Navigate to={user ? homePath(user) : '/signin'} replace />;
}

const staff: Role[] = ['staff', 'admin'];

export function App() {
  return (
    <Suspense fallback={<p className="loading" role="status">Loading…</p>}>
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
        <Route element={<Layout />}>
          <Route index element={<Home />} />
          <Route path="/home" element={<RequireRole roles={['visitor']}><VisitorHome /></RequireRole>} />
          <Route path="/resident" element={<RequireRole roles={['resident']}><ResidentHome /></RequireRole>} />
          <Route path="/staff" element={<RequireRole roles={staff}><StaffConsole /></RequireRole>} />
          <Route path="/recordings" element={<RequireRole roles={staff}><RecordingsPage /></RequireRole>} />
          <Route path="*" element={<NotFound />} />
        </Route>
        <Route path="/visits/:visitId/join" element={<RequireRole roles={['resident', 'visitor']}><JoinPage /></RequireRole>} />
        <Route path="/visits/:visitId/monitor" element={<RequireRole roles={staff}><JoinPage monitor /></RequireRole>} />
      </Routes>
    </Suspense>
  );
}
