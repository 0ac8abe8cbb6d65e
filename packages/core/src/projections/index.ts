export {
  applyInlineProjections,
  defineInlineProjection,
  type InlineProjection,
  type InlineProjectionConfig,
} from './inline-projection.ts';
