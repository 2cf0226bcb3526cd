// Files the console imports as text (`with { type: "text" }`): Bun and Deno give the file's
// contents as the default export.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
