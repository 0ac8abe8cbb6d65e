import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';
import { describeSyncApp } from '../../test/suites/sync-app-suite.ts';

describeSyncApp('PGlite', pgliteSuiteDatabase);
