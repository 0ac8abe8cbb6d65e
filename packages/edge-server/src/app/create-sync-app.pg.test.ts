import { neonSuiteDatabase } from './suite-databases.ts';
import { describeSyncApp } from './sync-app-suite.ts';

describeSyncApp('Postgres through the Neon driver', neonSuiteDatabase);
