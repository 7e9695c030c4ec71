import { assertEquals } from "../../tests/util/assert.ts";
import { HashAlgo, hashName, shortHash, toHex } from "./hash.ts";

Deno.test("hash: names hash as in the reference captures", () => {
  assertEquals(toHex(hashName(HashAlgo.MD5, "uni.a")), "eab53a3f9531d7df4ed520f321048dce");
  assertEquals(
    toHex(hashName(HashAlgo.SHA3_256, "oping.srv")),
    "2585c39091acfdf5ac6fa01d3d8b2c88577d4c63650125d6ff88de7aa195382a",
  );
  assertEquals(shortHash(hashName(HashAlgo.SHA3_256, "net")), "9c2d6179");
});
