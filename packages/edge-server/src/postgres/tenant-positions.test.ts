import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';
import { describeTenantPositions } from '../../test/suites/tenant-positions-suite.ts';

describeTenantPositions('PGlite', pgliteSuiteDatabase);
