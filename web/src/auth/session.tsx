// The signed-in session and the facility config, loaded once and shared through context.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiClient, ApiError, errorMessage } from '../api/client';
import type { AppConfig, User } from '../api/types';

interface Session {
  api: ApiClient;
  config: AppConfig | null;
  user: User | null;
  /** true until /api/auth/me has answered */
  loading: boolean;
  loadError: string;
  signIn(email: string, password: string): Promise<User>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ api, children }: { api: ApiClient; children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState('');

  useEffect(() => {
    let live = true;
    api.config().then((c) => { if (live) setConfig(c); }).catch(() => {});
    api.me()
      .then((u) => { if (live) setUser(u); })
      .catch((e) => {
        if (live && !(e instanceof ApiError && e.status === 401)) setLoadError(errorMessage(e));
      })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [api]);

  const signIn = useCallback(async (email: string, password: string) => {
    const u = await api.login(email, password);
    setUser(u);
    setLoadError('');
    return u;
  }, [api]);

  const signOut = useCallback(async () => {
    try { await api.logout(); } finally { setUser(null); }
  }, [api]);

  const value = useMemo(() => ({ api, config, user, loading, loadError, signIn, signOut }),
    [api, config, user, loading, loadError, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Where each role lands after signing in. */
export function homePath(user: User): string {
  switch (user.role) {
    case 'admin':
    case 'staff': return '/staff';
    case 'resident': return '/resident';
    default: return '/home';
  }
}
