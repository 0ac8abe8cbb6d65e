import { describeScopedSync } from '../../test/suites/scoped-sync-suite.ts';
import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeScopedSync('PGlite', pgliteSuiteDatabase);
