// @strata/edge-server/consumer-groups: persistent subscriptions shared by competing consumers,
// with a checkpoint and a lease per partition in Postgres. (The HTTP routes come with createSyncApp.)

// Consuming: a group's consumer in this process.
export {
  type ConsumerGroupConsumer,
  type ConsumerGroupDelivery,
  type ConsumerGroupHandler,
  type ConsumerGroupOptions,
  createConsumerGroup,
} from './consumer-group.ts';
// Operating: status and lag, and the events parked after their last attempt.
export {
  type ConsumerGroupStatus,
  type ConsumerGroupStatusOptions,
  consumerGroupStatus,
  DEFAULT_LAG_SCAN_LIMIT,
  discardParkedEvent,
  type ListParkedOptions,
  listParkedEvents,
  type ParkedEvent,
  type PartitionStatus,
  replayParkedEvent,
} from './consumer-group-admin.ts';
// Defining: a group's name, settings and stored definition.
export {
  type ConsumerGroup,
  type ConsumerGroupRef,
  type ConsumerGroupSettings,
  type ConsumerGroupSettingsOptions,
  DEFAULT_CONSUMER_GROUP_SETTINGS,
  DEFAULT_CONSUMER_LEASE_MS,
  ensureConsumerGroup,
} from './consumer-group-definition.ts';
