import { describeStreamRoutes } from '../../test/suites/stream-routes-suite.ts';
import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeStreamRoutes('Postgres through the Neon driver', neonSuiteDatabase);
