import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { obfuscateSql, SqlObfuscationError } from "../../../src/trace/obfuscate/mod.ts";

// Inputs and expected outputs are the Datadog Agent's own test vectors (pkg/obfuscate/sql_test.go).
const QUANTIZER: Array<[string, string]> = [
  ["select * from users where id = 42", "select * from users where id = ?"],
  ["select * from users where float = .43422", "select * from users where float = ?"],
  [
    "SELECT host, status FROM ec2_status WHERE org_id=42",
    "SELECT host, status FROM ec2_status WHERE org_id = ?",
  ],
  [
    "-- get user \n--\n select * \n   from users \n    where\n       id = 214325346",
    "select * from users where id = ?",
  ],
  [
    "SELECT * FROM `host` WHERE `id` IN (42, 43) /*comment with parameters,host:localhost,url:controller#home,id:FF005:00CAA*/",
    "SELECT * FROM host WHERE id IN ( ? )",
  ],
  [
    "SELECT `host`.`address` FROM `host` WHERE org_id=42",
    "SELECT host . address FROM host WHERE org_id = ?",
  ],
  [
    `SELECT "host"."address" FROM "host" WHERE org_id=42`,
    `SELECT host . address FROM host WHERE org_id = ?`,
  ],
  [
    "UPDATE user_dash_pref SET json_prefs = %(json_prefs)s, modified = '2015-08-27 22:10:32.492912' WHERE user_id = %(user_id)s AND url = %(url)s",
    "UPDATE user_dash_pref SET json_prefs = ? modified = ? WHERE user_id = ? AND url = ?",
  ],
  [
    "SELECT DISTINCT host.id AS host_id FROM host JOIN host_alias ON host_alias.host_id = host.id WHERE host.org_id = %(org_id_1)s AND host.name NOT IN (%(name_1)s) AND host.name IN (%(name_2)s, %(name_3)s, %(name_4)s, %(name_5)s)",
    "SELECT DISTINCT host.id FROM host JOIN host_alias ON host_alias.host_id = host.id WHERE host.org_id = ? AND host.name NOT IN ( ? ) AND host.name IN ( ? )",
  ],
  [
    "SELECT org_id, metric_key   FROM metrics_metadata   WHERE org_id = %(org_id)s AND metric_key = ANY(array[21, 25, 32])",
    "SELECT org_id, metric_key FROM metrics_metadata WHERE org_id = ? AND metric_key = ANY ( array [ ? ] )",
  ],
  [
    "SELECT articles.* FROM articles WHERE articles.id = 1 LIMIT 1, 20;",
    "SELECT articles.* FROM articles WHERE articles.id = ? LIMIT ?",
  ],
  [
    "SELECT articles.* FROM articles WHERE articles.id = 1 LIMIT 15,20;",
    "SELECT articles.* FROM articles WHERE articles.id = ? LIMIT ?",
  ],
  [
    "SELECT articles.* FROM articles WHERE (articles.created_at BETWEEN '2016-10-31 23:00:00.000000' AND '2016-11-01 23:00:00.000000')",
    "SELECT articles.* FROM articles WHERE ( articles.created_at BETWEEN ? AND ? )",
  ],
  [
    "SELECT articles.* FROM articles WHERE (articles.created_at BETWEEN $1 AND $2)",
    "SELECT articles.* FROM articles WHERE ( articles.created_at BETWEEN ? AND ? )",
  ],
  [
    "SELECT articles.* FROM articles WHERE (articles.published != true)",
    "SELECT articles.* FROM articles WHERE ( articles.published != ? )",
  ],
  [
    "SELECT articles.* FROM articles WHERE ( title = :title )",
    "SELECT articles.* FROM articles WHERE ( title = :title )",
  ],
  [
    "SELECT articles.* FROM articles WHERE ( title = @title )",
    "SELECT articles.* FROM articles WHERE ( title = @title )",
  ],
  [
    "SELECT date(created_at) as ordered_date, sum(price) as total_price FROM orders GROUP BY date(created_at) HAVING sum(price) > 100",
    "SELECT date ( created_at ), sum ( price ) FROM orders GROUP BY date ( created_at ) HAVING sum ( price ) > ?",
  ],
  [
    "SELECT * FROM articles WHERE id > 10 ORDER BY id asc LIMIT 20",
    "SELECT * FROM articles WHERE id > ? ORDER BY id asc LIMIT ?",
  ],
  [
    "SELECT articles.* FROM articles WHERE articles.id IN (1, 3, 5)",
    "SELECT articles.* FROM articles WHERE articles.id IN ( ? )",
  ],
  ["SELECT name FROM people WHERE person_id = -1", "SELECT name FROM people WHERE person_id = ?"],
  ["select * from test where !is_good;", "select * from test where ! is_good"],
  ["select * from test where !45;", "select * from test where ! ?"],
  [
    "select * from test where !(select is_good from good_things);",
    "select * from test where ! ( select is_good from good_things )",
  ],
  ["select * from test where !'weird_query'", "select * from test where ! ?"],
  ['select * from test where !"weird_query"', "select * from test where ! weird_query"],
  ["select !- 2", "select ! - ?"],
  ["select !+2", "select ! + ?"],
  ["select count(*) as `count(*)` from test", "select count ( * ) from test"],
  ["SELECT age as `age}` FROM profile", "SELECT age FROM profile"],
  ["SELECT * from users where user_id =:0_USER", "SELECT * from users where user_id = :0_USER"],
  ["DELETE FROM table WHERE table.a=1", "DELETE FROM table WHERE table.a = ?"],
  ["SELECT username AS person FROM users WHERE id=4", "SELECT username FROM users WHERE id = ?"],
  [
    "autovacuum: VACUUM fake.big_table (to prevent wraparound)",
    "autovacuum : VACUUM fake.big_table ( to prevent wraparound )",
  ],
  [
    "SELECT * FROM (VALUES (1, 'dog')) AS d (id, animal)",
    "SELECT * FROM ( VALUES ( ? ) ) ( id, animal )",
  ],
  [
    "CREATE TRIGGER dogwatcher SELECT ON w1 BEFORE (UPDATE d1 SET (c1, c2, c3) = (c1 + 1, c2 + 1, c3 + 1))",
    "CREATE TRIGGER dogwatcher SELECT ON w1 BEFORE ( UPDATE d1 SET ( c1, c2, c3 ) = ( c1 + ? c2 + ? c3 + ? ) )",
  ],
  ["SELECT $func$INSERT INTO table VALUES ('a', 1, 2)$func$ FROM users", "SELECT ? FROM users"],
  [
    "SELECT * FROM clients WHERE (clients.first_name = 'Andy') LIMIT 1 BEGIN INSERT INTO owners (created_at, first_name, locked, orders_count, updated_at) VALUES ('2011-08-30 05:22:57', 'Andy', 1, NULL, '2011-08-30 05:22:57') COMMIT",
    "SELECT * FROM clients WHERE ( clients.first_name = ? ) LIMIT ? BEGIN INSERT INTO owners ( created_at, first_name, locked, orders_count, updated_at ) VALUES ( ? ) COMMIT",
  ],
  [
    "SELECT Codi , Nom_CA AS Nom, Descripció_CAT AS Descripció FROM ProtValAptitud WHERE Vigent=1 ORDER BY Ordre, Codi",
    "SELECT Codi, Nom_CA, Descripció_CAT FROM ProtValAptitud WHERE Vigent = ? ORDER BY Ordre, Codi",
  ],
  // The spec's worked example and LDD vectors (logs-apmstats B.5).
  [
    "SELECT * FROM users WHERE id = 42 AND name = 'bob'",
    "SELECT * FROM users WHERE id = ? AND name = ?",
  ],
  [
    "SELECT * FROM \"users\" WHERE id = 1 AND name = 'test'",
    "SELECT * FROM users WHERE id = ? AND name = ?",
  ],
  ["SELECT * FROM t WHERE userId IN ('a','b','c')", "SELECT * FROM t WHERE userId IN ( ? )"],
  ["SELECT * FROM t WHERE name = $1 and id = $2", "SELECT * FROM t WHERE name = ? and id = ?"],
];

describe("obfuscateSql()", () => {
  for (const [query, expected] of QUANTIZER) {
    it(`obfuscates ${JSON.stringify(query.slice(0, 60))}`, () => {
      assert.equal(obfuscateSql(query).query, expected);
    });
  }

  it("collects tables with replace_digits, as the Agent's table finder does", () => {
    const oq = obfuscateSql(
      "REPLACE INTO sales_2019_07_01 (`itemID`, `date`, `qty`, `price`) VALUES ((SELECT itemID FROM item1001 WHERE `sku` = [sku]), CURDATE(), [qty], 0.00)",
      { tableNames: true, replaceDigits: true },
    );
    assert.equal(oq.metadata.tablesCSV, "sales_?_?_?,item?");
    assert.equal(
      oq.query,
      "REPLACE INTO sales_?_?_? ( itemID, date, qty, price ) VALUES ( ( SELECT itemID FROM item? WHERE sku = [ sku ] ), CURDATE ( ), [ qty ], ? )",
    );
  });

  it("collects commands and comments when asked", () => {
    const oq = obfuscateSql(
      "\n/* Multi-line comment */\nSELECT * FROM clients WHERE (clients.first_name = 'Andy') LIMIT 1 BEGIN INSERT INTO owners (a) VALUES (1) COMMIT",
      { tableNames: true, collectCommands: true, collectComments: true },
    );
    assert.equal(oq.metadata.tablesCSV, "clients,owners");
    assert.deepEqual(oq.metadata.commands, ["SELECT", "BEGIN", "INSERT", "COMMIT"]);
    assert.deepEqual(oq.metadata.comments, ["/* Multi-line comment */"]);
  });

  it("keeps aliases with keep_sql_alias and obfuscates $func$ bodies with dollar_quoted_func", () => {
    assert.equal(
      obfuscateSql("SELECT username AS person FROM users WHERE id=4", { keepSqlAlias: true }).query,
      "SELECT username AS person FROM users WHERE id = ?",
    );
    assert.equal(
      obfuscateSql("SELECT $func$INSERT INTO table VALUES ('a', 1, 2)$func$ FROM users", {
        dollarQuotedFunc: true,
      }).query,
      "SELECT $func$INSERT INTO table VALUES ( ? )$func$ FROM users",
    );
  });

  it("refuses a query it cannot tokenize", () => {
    assert.throws(() => obfuscateSql("SELECT 'unterminated"), SqlObfuscationError);
    assert.throws(() => obfuscateSql("/* never closed"), SqlObfuscationError);
    assert.throws(() => obfuscateSql(""), SqlObfuscationError);
  });
});
