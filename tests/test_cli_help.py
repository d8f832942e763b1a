"""Every command and option explains itself."""

from click.testing import CliRunner

from survey import __version__
from survey.cli import cli


def all_commands():
    return sorted(cli.commands.items())


def test_every_command_and_option_has_help():
    missing = []
    for name, command in all_commands():
        if not (command.help or "").strip():
            missing.append(name)
        for param in command.params:
            if param.param_type_name == "option" and not (param.help or "").strip():
                missing.append(f"{name} {param.opts[0]}")
    for param in cli.params:
        if param.param_type_name == "option" and not (param.help or "").strip() and param.name not in ("help", "version"):
            missing.append(f"survey {param.opts[0]}")
    assert missing == []


def test_help_runs_for_every_command():
    runner = CliRunner()
    for name, _ in all_commands():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: survey" in result.output or "Usage:" in result.output
    top = runner.invoke(cli, ["--help"])
    for name, _ in all_commands():
        assert name in top.output


def test_pipeline_commands_exist():
    assert {"init", "forms", "collect", "status", "analyse", "report", "demo", "validate", "questionnaires",
            "schema"} <= set(cli.commands)


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_user_error_is_one_line_without_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["forms", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "is not a scan folder" in result.output
    assert "survey init" in result.output


def test_unwritable_output_is_a_message_not_a_traceback(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["init", str(blocker / "scan"), "--org", "A", "--questionnaire", "werkgeluk"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "file.txt" in result.output
