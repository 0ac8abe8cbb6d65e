import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';
import { describeTenantPositions } from '../../test/suites/tenant-positions-suite.ts';

describeTenantPositions('Postgres through the Neon driver', neonSuiteDatabase);
