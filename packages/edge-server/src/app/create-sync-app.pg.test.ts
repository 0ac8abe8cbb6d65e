import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';
import { describeSyncApp } from '../../test/suites/sync-app-suite.ts';

describeSyncApp('Postgres through the Neon driver', neonSuiteDatabase);
