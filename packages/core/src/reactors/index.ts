export {
  type AsyncReactor,
  type AsyncReactorContext,
  defineAsyncReactor,
} from './async-reactor.ts';
export { defineSyncReactor, type SyncReactor } from './sync-reactor.ts';
