import { writeFileSync } from 'node:fs';
import { META_ERRORS_DATA_PATH, META_ERRORS_TS_PATH, loadMetaErrorsTable, renderMetaErrorCodes } from './meta-error-codes';

const table = loadMetaErrorsTable();
writeFileSync(META_ERRORS_TS_PATH, renderMetaErrorCodes(table));
console.log(`${META_ERRORS_TS_PATH}: ${table.codes.length} codes from ${META_ERRORS_DATA_PATH}`);
