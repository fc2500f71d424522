// The time-zone list that the settings validator and provision.sh agree through (components/core/timezones.ts):
// every name it accepts is one tzdata has and Node's ICU knows; every legacy name maps to a zone that a stock Ubuntu
// 24.04 (without tzdata-legacy) has; and the list matches this machine's tzdata where it has one.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { canonicalTimezone, LEGACY_ZONE_TARGETS, TZDATA_NAMES } from "../../components/core/timezones";
import { isIanaTimezone } from "../../components/core/validators";

const TZDATA_ZI = "/usr/share/zoneinfo/tzdata.zi";

test("every tzdata name is accepted (Node's ICU knows each one too) and becomes a name Ubuntu's base tzdata has", () => {
    assert.ok(TZDATA_NAMES.size > 500, `${TZDATA_NAMES.size} names`);
    for (const name of TZDATA_NAMES) {
        assert.ok(isIanaTimezone(name), name);
        const canonical = canonicalTimezone(name);
        assert.ok(TZDATA_NAMES.has(canonical), `${name} -> ${canonical}`);
        assert.ok(!(canonical in LEGACY_ZONE_TARGETS), `${name} -> ${canonical}, itself legacy`);
        // provision.sh's own pattern for TIMEZONE
        assert.match(canonical, /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, canonical);
    }
});

test("the legacy list covers Ubuntu 24.04's tzdata-legacy: the old directories and the renamed cities", () => {
    for (const name of ["US/Eastern", "US/Pacific", "Canada/Eastern", "Mexico/General", "Chile/Continental", "GB", "Japan"]) {
        assert.ok(name in LEGACY_ZONE_TARGETS, name);
    }
    for (const dir of ["US", "Canada", "Chile", "Mexico"]) {
        const inDir = [...TZDATA_NAMES].filter((n) => n.startsWith(`${dir}/`));
        assert.ok(inDir.length > 0, dir);
        for (const name of inDir) assert.ok(name in LEGACY_ZONE_TARGETS, name);
    }
    assert.equal(canonicalTimezone("America/New_York"), "America/New_York", "a canonical name stays");
});

test("the list is this machine's tzdata (tzdata.zi), where there is one: the zone files of every canonical name exist", () => {
    if (!fs.existsSync(TZDATA_ZI)) throw new Error(`${TZDATA_ZI} is missing: apt-get install tzdata`);
    const lines = fs.readFileSync(TZDATA_ZI, "utf8").split("\n");
    const here = new Set(lines.filter((l) => /^[ZL] /.test(l)).map((l) => l.split(" ")[l.startsWith("Z ") ? 1 : 2]));
    for (const name of TZDATA_NAMES) assert.ok(here.has(name), `${name} is not in ${TZDATA_ZI}`);
    for (const target of new Set(Object.values(LEGACY_ZONE_TARGETS))) {
        assert.ok(fs.existsSync(`/usr/share/zoneinfo/${target}`), target);
    }
});
