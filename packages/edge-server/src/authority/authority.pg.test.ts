import { describeAuthority } from '../../test/suites/authority-suite.ts';
import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeAuthority('Postgres through the Neon driver', neonSuiteDatabase);
