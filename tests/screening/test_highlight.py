from screening.highlight import highlight, terms


def test_terms_one_per_line_or_comma():
    assert terms("trainee*\n graduate student* , \n\nco-design") == (
        "trainee*", "graduate student*", "co-design")


def test_highlight_marks_terms_with_wildcards_case_insensitively():
    html = highlight("Trainees and a Graduate Students' co-design; not a trainer.",
                     ("trainee*", "graduate student*"), ("co-design",))

    assert html == ('<mark class="term-include">Trainees</mark> and a '
                    '<mark class="term-include">Graduate Students</mark>&#x27; '
                    '<mark class="term-exclude">co-design</mark>; not a trainer.')


def test_highlight_escapes_imported_text():
    html = highlight("<script>alert('trainee')</script> & trainee", ("trainee",), ())

    assert html == ("&lt;script&gt;alert(&#x27;<mark class=\"term-include\">trainee</mark>"
                    "&#x27;)&lt;/script&gt; &amp; <mark class=\"term-include\">trainee</mark>")


def test_highlight_without_terms_only_escapes():
    assert highlight("a < b", (), ()) == "a &lt; b"


def test_terms_with_regex_characters_are_literal():
    assert highlight("C++ (and C) in c.v.", ("c.v",), ()) == (
        'C++ (and C) in <mark class="term-include">c.v</mark>.')
