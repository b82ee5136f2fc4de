// Write src/protocol.ts, the /ws protocol's types, from docs/protocol.schema.json (which
// is generated from the server's pydantic models) with json-schema-to-typescript, the
// exact version pinned in package.json.
//
//     npm run protocol                      (writes src/protocol.ts)
//     node scripts/protocol.mjs OUTPUT.ts   (writes elsewhere: the drift test does)
//
// A test (tests/test_web_protocol.py) fails when the committed file and the schema drift
// apart. Before the schema goes to the tool it is only renamed, never retyped:
// - pydantic titles every field ("Id", "Type", …); the tool would make each a type
//   alias of its own (Id1, Id2, … Type49), so field titles are dropped and fields are
//   typed in place. The models' own titles ($defs) name the interfaces.
// - a ``$ref`` with keywords beside it (a field's default and description) becomes the
//   same thing spelled ``allOf: [{$ref}]``; else the tool copies the referenced model
//   under a second name (RetentionInfo1) and gives it the field's description.
// - the schema's five parts get names: ClientMessage, ServerMessage (the unions of each
//   direction) and the ``data`` of confirmation, permission_mode and skill events.

import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SCHEMA = resolve(WEB, "../docs/protocol.schema.json");

const BANNER = `// GENERATED from docs/protocol.schema.json by json-schema-to-typescript: do not edit.
// Regenerate (after changing the models in src/switchboard/protocol/messages.py):
//     python -m switchboard.protocol.schema docs/protocol.schema.json
//     cd web && npm run protocol
// Friendlier names and narrowing helpers for the UI are in wire.ts.`;

const PARTS = {
  client_to_server: "ClientMessage",
  server_to_client: "ServerMessage",
  confirmation_event_data: "ConfirmationEvent",
  permission_mode_event_data: "PermissionModeChanged",
  skill_event_data: "SkillEvent",
};

/** Drop the ``title`` of ``schema`` and of every schema inside it (not of the values of
 *  ``default``, ``const`` or ``enum``, which are data), and wrap a ``$ref`` that has
 *  keywords beside it in ``allOf``. */
function untitle(schema) {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
  delete schema.title;
  if (typeof schema.$ref === "string" && Object.keys(schema).length > 1) {
    schema.allOf = [{ $ref: schema.$ref }];
    delete schema.$ref;
  }
  for (const key of ["properties", "patternProperties", "$defs", "definitions"]) {
    for (const sub of Object.values(schema[key] ?? {})) untitle(sub);
  }
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    for (const sub of schema[key] ?? []) untitle(sub);
  }
  for (const key of ["items", "additionalProperties", "not", "if", "then", "else"]) {
    untitle(schema[key]);
  }
}

export function prepare(schema) {
  const prepared = structuredClone(schema);
  for (const definition of Object.values(prepared.$defs)) {
    const title = definition.title;
    untitle(definition);
    definition.title = title;
  }
  for (const [part, name] of Object.entries(PARTS)) {
    untitle(prepared.properties[part]);
    prepared.properties[part].title = name;
  }
  prepared.title = "Protocol";
  prepared.required = Object.keys(PARTS);
  return prepared;
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node scripts/protocol.mjs OUTPUT.ts");
    return 2;
  }
  const schema = prepare(JSON.parse(await readFile(SCHEMA, "utf8")));
  const text = await compile(schema, "Protocol", {
    bannerComment: BANNER,
    unknownAny: true,
    unreachableDefinitions: true,
    additionalProperties: false,
    strictIndexSignatures: false,
  });
  await writeFile(resolve(process.cwd(), argv[0]), text, "utf8");
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
