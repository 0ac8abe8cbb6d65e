import { describeScopedSync } from '../../test/suites/scoped-sync-suite.ts';
import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeScopedSync('Postgres through the Neon driver', neonSuiteDatabase);
