import { describeStreamRoutes } from '../../test/suites/stream-routes-suite.ts';
import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeStreamRoutes('PGlite', pgliteSuiteDatabase);
