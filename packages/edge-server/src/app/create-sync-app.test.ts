import { pgliteSuiteDatabase } from './suite-databases.ts';
import { describeSyncApp } from './sync-app-suite.ts';

describeSyncApp('PGlite', pgliteSuiteDatabase);
