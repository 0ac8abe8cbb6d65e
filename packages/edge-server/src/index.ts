// @strata/edge-server: the Hono sync server arrives with issue #4.
export {};
