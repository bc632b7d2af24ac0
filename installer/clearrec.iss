; Inno Setup 6 script for ClearRec Desktop (Windows x64). installer/README.md has the steps.
;
; Compile from the repository root, after PyInstaller has built dist\clearrec-desktop\ from
; installer\clearrec.spec and its self-test has passed:
;     iscc installer\clearrec.iss
; Output: dist\ClearRec-Desktop-<version>-setup.exe
;
; Per-user install without admin rights by default (into %LOCALAPPDATA%\Programs); the user or
; an administrator may choose an all-users install instead (dialog, or /ALLUSERS on the command
; line). Nothing here, nor in the program, reaches the network: no update check, no web links.
;
; Optional defines on the iscc command line:
;     /DAppVersion=1.2.3      override the version (normally read from the built executable,
;                             whose version comes from pyproject.toml through the spec)
;     /DLicenseFile=C:\...\eula.rtf   show a licence page
;     /DSign /Sclearrecsign=...       sign Setup and the uninstaller (see README: Signing)

#if VER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or newer is needed (for the x64compatible architecture identifier)
#endif

#define AppName "ClearRec Desktop"
#define AppExe "ClearRec Desktop.exe"
#define CliExe "clearrec.exe"
#define DistDir AddBackslash(SourcePath) + "..\dist\clearrec-desktop"
; The workspace file type: extension and the ProgID it is registered under.
#define WorkspaceExt ".clearrec"
#define WorkspaceProgId "ClearRec.Workspace"

#ifnexist DistDir + "\" + AppExe
  #error dist\clearrec-desktop\ClearRec Desktop.exe is missing: build it with PyInstaller first (installer\README.md)
#endif
#ifndef AppVersion
  ; ProductVersion is written by installer\clearrec.spec from pyproject.toml.
  #define AppVersion GetStringFileInfo(DistDir + "\" + AppExe, "ProductVersion")
#endif

[Setup]
; The AppId never changes: it is how a newer installer finds and replaces the installed version.
AppId={{64A76953-F368-47D0-BA15-87143F23BE61}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=ClearRec
; No AppPublisherURL / AppSupportURL / AppUpdatesURL on purpose: nothing to click that goes online.
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoProductVersion={#AppVersion}
VersionInfoDescription={#AppName} Setup
VersionInfoCompany=ClearRec
VersionInfoCopyright=Proprietary

; Per-user by default; "dialog" lets the user pick all-users (which asks for admin) and also
; enables the /ALLUSERS and /CURRENTUSER command-line switches for managed installs.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
; {autopf}: %LOCALAPPDATA%\Programs per user, C:\Program Files for all users.
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0

; Windows refreshes its file-type icons after install and uninstall.
ChangesAssociations=yes
; A running copy is closed (Restart Manager) before its files are replaced on upgrade.
CloseApplications=yes
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}

WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; Setup writes a log to %TEMP% (Setup Log <date>.txt) for county IT.
SetupLogging=yes
OutputDir=..\dist
OutputBaseFilename=ClearRec-Desktop-{#AppVersion}-setup
#ifdef LicenseFile
LicenseFile={#LicenseFile}
#endif
#ifdef Sign
SignTool=clearrecsign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder program: both executables and _internal\ (Python, Qt, the resources).
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{userdocs}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Registry]
; Double-clicking a workspace opens it: "ClearRec Desktop.exe" "<file>" (the app's WORKSPACE
; argument). HKA is HKCU\Software\Classes in a per-user install and HKLM in an all-users one,
; so no admin rights are needed for the association either.
Root: HKA; Subkey: "Software\Classes\{#WorkspaceExt}"; ValueType: string; ValueName: ""; ValueData: "{#WorkspaceProgId}"; Flags: uninsdeletevalue uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#WorkspaceExt}\OpenWithProgids"; ValueType: string; ValueName: "{#WorkspaceProgId}"; ValueData: ""; Flags: uninsdeletevalue uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}"; ValueType: string; ValueName: ""; ValueData: "ClearRec workspace"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the program's own folder. Workspaces (*.clearrec) and exported documents live wherever
; the user saved them and are never touched; nor are the app's settings under
; HKCU\Software\ClearRec (recent workspaces, window layout), so a reinstall keeps them.
Type: filesandordirs; Name: "{app}\_internal"
Type: dirifempty; Name: "{app}"
