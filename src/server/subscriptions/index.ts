/**
 * Push subscriptions: a node leases messages for a subscriber on one of its client connections and
 * pushes them as the subscriber's credit allows (docs/protocol.md, "Push subscriptions").
 */
export { ConnectionSubscriptions, SUBSCRIPTIONS_PER_NODE_MAX, SubscriptionRegistry } from './subscription-registry.ts';
export { isSubscriptionFrame, subscriptionRequestOfFrame } from './subscription-request.ts';
