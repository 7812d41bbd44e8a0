import { useEffect, useState } from 'react';
import { formatCountdown, secondsUntil } from '../lib/time';

/** Seconds left at which the "visit ends soon" warning shows (the app also sends visit_warning). */
export const WARNING_SECONDS = 120;

export function useSecondsLeft(endsAt: string): number {
  const [left, setLeft] = useState(() => secondsUntil(endsAt));
  useEffect(() => {
    setLeft(secondsUntil(endsAt));
    const t = setInterval(() => setLeft(secondsUntil(endsAt)), 1000);
    return () => clearInterval(t);
  }, [endsAt]);
  return left;
}

export function Countdown({ secondsLeft }: { secondsLeft: number }) {
  return (
    <span className={`countdown${secondsLeft <= WARNING_SECONDS ? ' soon' : ''}`} data-testid="countdown"
      aria-label={`Time left: ${formatCountdown(secondsLeft)}`}>
      {formatCountdown(secondsLeft)} left
    </span>
  );
}
