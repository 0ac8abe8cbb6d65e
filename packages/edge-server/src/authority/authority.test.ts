import { describeAuthority } from '../../test/suites/authority-suite.ts';
import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeAuthority('PGlite', pgliteSuiteDatabase);
