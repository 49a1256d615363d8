"""Domain errors for rubrics. Every message is written for the person who caused it."""


class RubricError(ValueError):
    """A rubric change that cannot be carried out; str(error) says why, in plain words."""


class RubricFrozenError(RubricError):
    """A write to a version that has been used for scoring (the view answers 409)."""

    def __init__(self, message: str, version_id: int):
        super().__init__(message)
        self.version_id = version_id


class RubricFormatError(RubricError):
    """A rubric file that cannot be imported; `problems` lists each thing wrong with it."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:
            message = f"This rubric file cannot be imported: {problems[0]}"
        else:
            message = ("This rubric file cannot be imported: " + " ".join(
                f"({i}) {p}" for i, p in enumerate(problems, 1)))
        super().__init__(message)
