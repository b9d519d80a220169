<?php
// What Moodle 4.5 keeps of a Common Cartridge HTML file when its restore
// turns the file into a Page (backup/cc/entity11.resource.class.php):
// the content of <body> (entities::prepare_content), cleaned with
// PARAM_CLEANHTML, which is HTML Purifier set up as lib/weblib.php
// purify_html() sets it up (definition revision 7, no `allowid`, and
// `allowobjectembed` off as by default). Moodle then rewrites relative
// href/src values that name a file of the cartridge to file URLs; that
// step is left to the caller.
//
//   php tests/moodle/page.php page.html ...
//
// prints a JSON object: file name -> the HTML Moodle stores as the body.
// Needs Debian's php-cli and php-htmlpurifier (tests/run.sh installs them).

require_once 'HTMLPurifier.auto.php';

// Debian 12's php-htmlpurifier (4.11) has three `$text{$i}` string offsets
// that PHP 8 no longer compiles (fixed upstream in 4.13): load those three
// classes with `[...]` instead. Newer packages load as they are.
spl_autoload_register(function (string $class): void {
    $old = ['HTMLPurifier_Encoder', 'HTMLPurifier_ChildDef_Custom', 'HTMLPurifier_TagTransform_Font'];
    if (!in_array($class, $old, true) || version_compare(HTMLPurifier::VERSION, '4.13.0', '>=')) {
        return;
    }
    $file = stream_resolve_include_path(str_replace('_', '/', $class) . '.php');
    $code = preg_replace('/(\$\w+(?:\[\'\w+\'\])?)\{(\$?\w+)\}/', '$1[$2]', file_get_contents($file));
    eval('?>' . $code);
}, true, true);

function moodle_purifier(): HTMLPurifier {
    $config = HTMLPurifier_Config::createDefault();
    $config->set('Cache.DefinitionImpl', null);
    $config->set('HTML.DefinitionID', 'moodlehtml');
    $config->set('HTML.DefinitionRev', 7);
    $config->set('Core.NormalizeNewlines', false);
    $config->set('Core.ConvertDocumentToFragment', true);
    $config->set('Core.Encoding', 'UTF-8');
    $config->set('HTML.Doctype', 'XHTML 1.0 Transitional');
    // Moodle also allows irc, rtsp, rtmp, teamspeak, gopher and mms through
    // scheme classes of its own (lib/htmlpurifier/locallib.php); pages
    // never use them.
    $config->set('URI.AllowedSchemes', [
        'http' => true, 'https' => true, 'ftp' => true, 'nntp' => true,
        'news' => true, 'mailto' => true,
    ]);
    $config->set('Attr.AllowedFrameTargets', ['_blank']);
    if ($def = $config->maybeGetRawHTMLDefinition()) {
        $def->addElement('nolink', 'Inline', 'Flow', []);
        $def->addElement('tex', 'Inline', 'Inline', []);
        $def->addElement('algebra', 'Inline', 'Inline', []);
        $def->addElement('lang', 'Block', 'Flow', [], ['lang' => 'CDATA']);
        $def->addAttribute('span', 'xxxlang', 'CDATA');
        $def->addElement('bdi', 'Inline', 'Flow', 'Common');
        $def->addAttribute('span', 'dir', 'Enum#ltr,rtl,auto');
        $def->addElement('video', 'Inline', 'Optional: #PCDATA | Flow | source | track', 'Common', [
            'src' => 'URI',
            'crossorigin' => 'Enum#anonymous,use-credentials',
            'poster' => 'URI',
            'preload' => 'Enum#auto,metadata,none',
            'autoplay' => 'Bool',
            'playsinline' => 'Bool',
            'loop' => 'Bool',
            'muted' => 'Bool',
            'controls' => 'Bool',
            'width' => 'Length',
            'height' => 'Length',
        ]);
        $def->addElement('audio', 'Inline', 'Optional: #PCDATA | Flow | source | track', 'Common', [
            'src' => 'URI',
            'crossorigin' => 'Enum#anonymous,use-credentials',
            'preload' => 'Enum#auto,metadata,none',
            'autoplay' => 'Bool',
            'loop' => 'Bool',
            'muted' => 'Bool',
            'controls' => 'Bool',
        ]);
        $def->addElement('source', false, 'Empty', null, ['src' => 'URI', 'type' => 'Text']);
        $def->addElement('track', false, 'Empty', null, [
            'src' => 'URI',
            'kind' => 'Enum#subtitles,captions,descriptions,chapters,metadata',
            'srclang' => 'Text',
            'label' => 'Text',
            'default' => 'Bool',
        ]);
        $def->manager->addModule(new HTMLPurifier_HTMLModule_Ruby());
    }
    return new HTMLPurifier($config);
}

// entities::prepare_content: keep what is inside <body> (else <html>).
function body_of(string $html): string {
    foreach (['body', 'html'] as $tag) {
        if (preg_match("/<$tag" . '[^>]*>(.+)<\/' . $tag . '>/is', $html, $m)) {
            return $m[1];
        }
    }
    return $html;
}

if ($argc < 2) {
    fwrite(STDERR, "usage: php page.php FILE.html...\n");
    exit(2);
}
$purifier = moodle_purifier();
$out = [];
foreach (array_slice($argv, 1) as $file) {
    $html = file_get_contents($file);
    if ($html === false) {
        fwrite(STDERR, "cannot read $file\n");
        exit(1);
    }
    $out[$file] = trim((string) $purifier->purify(body_of($html)));
}
echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT), "\n";
