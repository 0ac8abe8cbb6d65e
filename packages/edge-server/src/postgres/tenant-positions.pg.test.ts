import { neonSuiteDatabase } from '../app/suite-databases.ts';
import { describeTenantPositions } from './tenant-positions-suite.ts';

describeTenantPositions('Postgres through the Neon driver', neonSuiteDatabase);
