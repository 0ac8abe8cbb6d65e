import { describeStreamRoutes } from './stream-routes-suite.ts';
import { pgliteSuiteDatabase } from './suite-databases.ts';

describeStreamRoutes('PGlite', pgliteSuiteDatabase);
