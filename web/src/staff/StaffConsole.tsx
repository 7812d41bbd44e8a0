import { useSession } from '../auth/session';
import { isoDate } from '../lib/time';
import { Approvals } from './Approvals';
import { LiveVisits } from './LiveVisits';
import { Residents, Visitors } from './People';
import { RulesForm } from './RulesForm';
import { TodaySchedule } from './TodaySchedule';

const sections = [
  ['live', 'Live now'], ['today', 'Today'], ['approvals', 'Approvals'], ['residents', 'Residents'],
  ['visitors', 'Visitors'], ['rules', 'Visit rules'],
] as const;

export function StaffConsole() {
  const { config } = useSession();
  const tz = config?.facility.timeZone;
  return (
    <div className="page console" data-testid="staff-console">
      <h1>Staff console</h1>
      <nav className="section-nav" aria-label="Console sections">
        {sections.map(([id, label]) => <a key={id} href={`#${id}`}>{label}</a>)}
      </nav>
      <LiveVisits timeZone={tz} />
      <TodaySchedule date={isoDate(new Date(), tz)} timeZone={tz} />
      <Approvals />
      <div className="grid2">
        <Residents />
        <Visitors />
      </div>
      <RulesForm />
    </div>
  );
}
