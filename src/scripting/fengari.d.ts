// fengari ships no type declarations; the scripting VM (src/scripting/vm.ts) is its only user.
declare module 'fengari' {
  const fengari: any;
  export = fengari;
}
declare module 'fengari/src/lobject.js' {
  const lobject: any;
  export = lobject;
}
declare module 'fengari/src/lstring.js' {
  const lstring: any;
  export = lstring;
}
