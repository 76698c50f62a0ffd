export async function main(argv: string[]): Promise<void> {
  console.log("zdb", argv);
}
