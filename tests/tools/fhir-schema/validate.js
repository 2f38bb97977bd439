// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema.
//   node validate.js FILE...        exit 0 when every file is valid, 1 otherwise
// Each file is also checked to be a Bundle of type "message" whose first entry is a MessageHeader.
'use strict';
const fs = require('fs');
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const validator = new Validator();
let failures = 0;
for (const file of process.argv.slice(2)) {
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`FAIL ${file}: not JSON: ${e.message}`);
    failures++;
    continue;
  }
  const errors = validator.validate(resource, true);
  const shape = resource.resourceType === 'Bundle' && resource.type === 'message' &&
      Array.isArray(resource.entry) && resource.entry[0].resource.resourceType === 'MessageHeader';
  if (errors.length > 0 || !shape) {
    failures++;
    console.log(`FAIL ${file}: ${shape ? '' : 'not a message Bundle starting with a MessageHeader; '}` +
                JSON.stringify(errors.slice(0, 5)));
  } else {
    console.log(`ok   ${file}`);
  }
}
console.log(`${process.argv.length - 2 - failures} valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
