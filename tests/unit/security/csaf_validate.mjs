// Runs the BSI CSAF validator (@secvisogram/csaf-validator-lib) on CSAF 2.0 documents.
//
//   node csaf_validate.mjs <directory of the library> <document.json>...
//
// Prints one JSON object: for each document, the findings of the strict schema test,
// every mandatory test and every optional ("recommended", §6.2) test, each as
// {set, test, level, path, message}. The informative tests (§6.3) are left out: one of
// them fetches every URL of the document, and the suite makes no network requests.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [lib, ...files] = process.argv.slice(2)
const load = (name) => import(pathToFileURL(path.join(lib, name)).href)
const { default: validateStrict } = await load('validateStrict.js')
const sets = {
  schema: [(await load('schemaTests.js')).csaf_2_0_strict],
  mandatory: Object.values(await load('mandatoryTests.js')),
  recommended: Object.values(await load('optionalTests.js')),
}
const found = {}
for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  found[file] = []
  for (const [set, tests] of Object.entries(sets)) {
    for (const test of tests) {
      const result = await validateStrict([test], doc)
      for (const level of ['errors', 'warnings', 'infos']) {
        for (const { instancePath, message } of result.tests[0][level] ?? []) {
          found[file].push({ set, test: test.name, level, path: instancePath, message })
        }
      }
    }
  }
}
console.log(JSON.stringify(found))
