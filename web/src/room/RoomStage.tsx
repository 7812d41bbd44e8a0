// Renders the stage of whichever provider the handle came from.
import type { VideoRoomHandle } from '../video/BaseVideoProvider';
import { LiveKitRoomHandle } from '../video/LiveKitVideoProvider';
import { LiveKitStage } from './livekit/LiveKitStage';

export function RoomStage({ handle, monitor }: { handle: VideoRoomHandle; monitor: boolean }) {
  if (handle instanceof LiveKitRoomHandle) return <LiveKitStage room={handle.room} monitor={monitor} />;
  return <p className="error" role="alert">This video service cannot be shown in this version of Parlor.</p>;
}
