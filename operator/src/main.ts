import { hello } from "#common/greet.js";
console.log(hello("op"));
