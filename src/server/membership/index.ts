/**
 * Who takes part: gossip (who is alive), the leader's autopilot (who votes), founding a cluster
 * from blank nodes, and the cluster as one node sees it.
 */
export { type AutopilotConfig, type AutopilotOptions, autopilotConfig, DEFAULT_AUTOPILOT } from './autopilot.ts';
export { ClusterFounding, type ClusterFoundingOptions } from './cluster-founding.ts';
export { ClusterVersionRaise, type ClusterVersionRaiseOptions } from './cluster-version-raise.ts';
export { type ClusterView, clusterView } from './cluster-view.ts';
export { LeaderDuties, type LeaderDutiesOptions } from './leader-duties.ts';
export { MembershipService, type MembershipServiceOptions } from './membership-service.ts';
export { PeerActivity } from './peer-activity.ts';
export {
  FOUNDERS_META_KEY,
  type Refounding,
  refoundCluster,
  refoundedFounders,
  storeRefoundedFounders,
  writeRefoundedState,
} from './refounding.ts';
