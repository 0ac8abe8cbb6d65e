export { buildOpenApiDocument, honoPathOf, statusOfCode } from './openapi-document.ts';
export { openApiRoute } from './openapi-route.ts';
export {
  COMMIT_RESULT_CODES,
  OPENAPI_ROUTES,
  type RouteAnswer,
  type RouteAuth,
  type RouteDescription,
  type RouteRequestHeader,
} from './route-table.ts';
