import { writeFileSync } from 'node:fs';
import { CONFIG_DOCS_PATH, renderConfigDocs } from './config-docs';

writeFileSync(CONFIG_DOCS_PATH, renderConfigDocs());
console.log(`wrote ${CONFIG_DOCS_PATH}`);
