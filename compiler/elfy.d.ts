// elfy ships no type declarations; we only call parse() and read section names.
declare module 'elfy' {
  const elfy: { parse(buffer: Buffer): unknown };
  export default elfy;
}
