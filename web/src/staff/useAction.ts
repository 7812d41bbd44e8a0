import { useState } from 'react';
import { errorMessage } from '../api/client';

/** Runs one action at a time, keeping its error to show beside the control. */
export function useAction() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState('');
  async function run(key: string, fn: () => Promise<unknown>, after?: () => void) {
    setBusy(key);
    setError('');
    try {
      await fn();
      after?.();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(null);
    }
  }
  return { busy, error, run, setError };
}
