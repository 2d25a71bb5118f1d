// Starts `ellora lsp` for C, C++, CUDA and Fortran files and forwards its commands.
// Everything else (code actions, progress, edits, reports, hover, diagnostics) is plain LSP,
// handled by vscode-languageclient.
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

const LANGUAGES = ["c", "cpp", "cuda-cpp", "fortran", "fortran90", "FortranFreeForm"];

/** The server's options: only what the user set, in the shape `ellora lsp` reads. */
function serverOptions(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("ellora");
  const options: Record<string, unknown> = {};
  for (const key of ["modelEndpoint", "indexLocation", "diagnosticsOnSave", "sandboxLimits", "set"]) {
    const value = config.get(key);
    const empty = value === "" || value === undefined || value === null ||
      (Array.isArray(value) && value.length === 0) ||
      (typeof value === "object" && !Array.isArray(value) && Object.keys(value as object).length === 0);
    if (!empty) {
      options[key] = value;
    }
  }
  return options;
}

function createClient(): LanguageClient {
  const [command, ...args] = vscode.workspace
    .getConfiguration("ellora")
    .get<string[]>("server.command", ["ellora", "lsp"]);
  const server: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
    initializationOptions: serverOptions(),
    outputChannelName: "Ellora",
  };
  return new LanguageClient("ellora", "Ellora", server, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  client = createClient();
  await client.start();
  context.subscriptions.push(
    vscode.commands.registerCommand("ellora.restartServer", async () => {
      await client?.stop();
      client = createClient();
      await client.start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("ellora") || client === undefined) {
        return;
      }
      if (event.affectsConfiguration("ellora.server.command")) {
        await vscode.commands.executeCommand("ellora.restartServer");
        return;
      }
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: serverOptions(),
      });
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
