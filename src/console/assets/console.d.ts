/** The console's script, imported as text by `../_assets.ts` (`with { type: "text" }`). */
declare const text: string;
export default text;
