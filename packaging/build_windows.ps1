# Build Cavern for Windows (PowerShell, from anywhere):
#   packaging\dist\Cavern\Cavern.exe       the GUI (windowed)
#   packaging\dist\Cavern\cavern-cli.exe   the same app with a console, for the command line
#   packaging\dist\Cavern-<version>-windows-x64.zip
# Usage: powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1 [-Smoke]
# Optional signing (see packaging\README.md): $env:CAVERN_SIGN_CERT = "<certificate SHA1 thumbprint>"
param([switch]$Smoke)
$ErrorActionPreference = "Stop"
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Root = Split-Path -Parent $Here
$Py = if ($env:PYTHON) { $env:PYTHON } else { "python" }
Set-Location $Root

& $Py -m PyInstaller --noconfirm --distpath "$Here\dist" --workpath "$Here\build" "$Here\cavern.spec"
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed (is it installed? $Py -m pip install pyinstaller)" }

$App = Join-Path $Here "dist\Cavern"
if ($env:CAVERN_SIGN_CERT) {
    $Exes = @((Join-Path $App "Cavern.exe"), (Join-Path $App "cavern-cli.exe"))
    & signtool sign /sha1 $env:CAVERN_SIGN_CERT /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $Exes
    if ($LASTEXITCODE -ne 0) { throw "signtool sign failed" }
    & signtool verify /pa /v $Exes
    if ($LASTEXITCODE -ne 0) { throw "signtool verify failed" }
}

$Version = & $Py -c "import sys; sys.path.insert(0, sys.argv[1]); import spec_config as c; print(c.read_version(c.project_root(sys.argv[1])))" $Here
$Zip = Join-Path $Here "dist\Cavern-$Version-windows-x64.zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path $App -DestinationPath $Zip
$MB = [math]::Round(((Get-ChildItem $App -Recurse | Measure-Object Length -Sum).Sum) / 1MB, 1)
Write-Host "app folder: $MB MB  $App"
Write-Host "zip:        $([math]::Round((Get-Item $Zip).Length / 1MB, 1)) MB  $Zip"
if ($Smoke) {
    & $Py "$Here\smoke_test.py" $App
    if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
}
