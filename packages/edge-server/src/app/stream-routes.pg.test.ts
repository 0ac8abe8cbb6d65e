import { describeStreamRoutes } from './stream-routes-suite.ts';
import { neonSuiteDatabase } from './suite-databases.ts';

describeStreamRoutes('Postgres through the Neon driver', neonSuiteDatabase);
