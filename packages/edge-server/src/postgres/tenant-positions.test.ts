import { pgliteSuiteDatabase } from '../app/suite-databases.ts';
import { describeTenantPositions } from './tenant-positions-suite.ts';

describeTenantPositions('PGlite', pgliteSuiteDatabase);
